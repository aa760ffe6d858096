-- postfix.lua - sessions with the macros Postfix sends ({daemon_addr}
-- "::1" but {client_addr} "IPv6:::1"), with and without TLS, several
-- messages a session, a STARTTLS session's two EHLOs.
dofile(SRCDIR .. "/tests/milter/common.lua")
start()

local function pf_connect(daddr, dport, client)
	return { "{daemon_addr}", daddr, "{daemon_port}", dport,
	    "{client_addr}", client }
end

-- TLS on IPv4, three messages in one session (counted once).
local conn = open()
session(conn, {
	client = "192.0.2.10",
	connect_macros = pf_connect("127.0.0.1", "25", "192.0.2.10"),
	starttls_helo = true,
	messages = 3,
	mail_macros = { "{tls_version}", "TLSv1.3", "{cipher}",
	    "TLS_AES_256_GCM_SHA384", "{cipher_bits}", "256",
	    "{daemon_addr}", "127.0.0.1", "{daemon_port}", "25" },
})
mt.disconnect(conn)

-- Plaintext on IPv6 (no TLS macros at MAIL FROM).
conn = open()
session(conn, {
	client = "2001:db8::66",
	connect_macros = pf_connect("::1", "25", "IPv6:2001:db8::66"),
	mail_macros = { "{daemon_addr}", "::1", "{daemon_port}", "25" },
})
mt.disconnect(conn)

-- TLS 1.2 on a submission listener, listener macros only at connect.
conn = open()
session(conn, {
	client = "192.0.2.11",
	connect_macros = pf_connect("192.0.2.1", "587", "192.0.2.11"),
	starttls_helo = true,
	mail_macros = { "{tls_version}", "TLSv1.2", "{cipher}",
	    "ECDHE-RSA-AES128-GCM-SHA256", "{cipher_bits}", "128" },
})
mt.disconnect(conn)

-- An old Postfix without {daemon_addr}: no listener macros at all.
conn = open()
session(conn, { client = "192.0.2.12" })
mt.disconnect(conn)

-- An unknown client family ("unspec") and empty macro values.
conn = open()
session(conn, {
	client = "unspec",
	connect_macros = pf_connect("", "", ""),
	mail_macros = { "{tls_version}", "", "{cipher}", "" },
})
mt.disconnect(conn)
