-- sendmail.lua - sessions with the macros sendmail 8.17 sends: addresses
-- in "IPv6:0:0:0:0:0:0:0:1" form, {daemon_addr} 0.0.0.0 for a daemon on
-- every address with the interface in {if_addr}, {daemon_flags}.
dofile(SRCDIR .. "/tests/milter/common.lua")
start()

-- TLS over IPv6 loopback.
local conn = open()
session(conn, {
	client = "::1",
	connect_macros = { "{daemon_addr}", "IPv6:0:0:0:0:0:0:0:1",
	    "{daemon_port}", "25", "{daemon_flags}", "",
	    "{client_addr}", "IPv6:0:0:0:0:0:0:0:1" },
	starttls_helo = true,
	mail_macros = { "{tls_version}", "TLSv1.3", "{cipher}",
	    "TLS_AES_128_GCM_SHA256", "{cipher_bits}", "128",
	    "{daemon_addr}", "IPv6:0:0:0:0:0:0:0:1", "{daemon_port}", "25" },
})
mt.disconnect(conn)

-- Plaintext to a daemon on 0.0.0.0, reached on 192.0.2.1; the client
-- is IPv4-mapped.
conn = open()
session(conn, {
	client = "192.0.2.77",
	connect_macros = { "{daemon_addr}", "0.0.0.0", "{daemon_port}", "25",
	    "{if_addr}", "192.0.2.1", "{daemon_flags}", "S",
	    "{client_addr}", "IPv6:::ffff:192.0.2.77" },
	mail_macros = { "{daemon_addr}", "0.0.0.0", "{daemon_port}", "25",
	    "{if_addr}", "192.0.2.1" },
})
mt.disconnect(conn)

-- TLS 1.0 (still TLS, counted as 1.0; the guard's probes judge G2).
conn = open()
session(conn, {
	client = "192.0.2.78",
	connect_macros = { "{daemon_addr}", "127.0.0.1", "{daemon_port}",
	    "25", "{client_addr}", "192.0.2.78" },
	mail_macros = { "{tls_version}", "TLSv1", "{cipher}", "AES256-SHA",
	    "{cipher_bits}", "256" },
})
mt.disconnect(conn)
