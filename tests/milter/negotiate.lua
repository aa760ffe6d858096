-- negotiate.lua - daneguard asks for connect, HELO and MAIL FROM only,
-- no-reply for connect and HELO, and the macro lists, each only when the
-- MTA offers it.
dofile(SRCDIR .. "/tests/milter/common.lua")
start()

local function want(conn, what, name, flag, expected)
	local got
	if what == "option" then
		got = mt.test_option(conn, flag)
	else
		got = mt.test_action(conn, flag)
	end
	if got ~= expected then
		error(name .. ": " .. tostring(got) .. ", want " ..
		    tostring(expected))
	end
end

-- An MTA that offers everything (libmilter's defaults, as Postfix and
-- sendmail 8.14+ do).
local conn = open(nil, nil)
for _, n in ipairs({ "SMFIP_NORCPT", "SMFIP_NOHDRS", "SMFIP_NOEOH",
    "SMFIP_NOBODY", "SMFIP_NOUNKNOWN", "SMFIP_NODATA", "SMFIP_NR_CONN",
    "SMFIP_NR_HELO" }) do
	want(conn, "option", n, _G[n], true)
end
for _, n in ipairs({ "SMFIP_NOCONNECT", "SMFIP_NOHELO", "SMFIP_NOMAIL",
    "SMFIP_NR_MAIL", "SMFIP_RCPT_REJ", "SMFIP_SKIP" }) do
	want(conn, "option", n, _G[n], false)
end
want(conn, "action", "SMFIF_SETSYMLIST", SMFIF_SETSYMLIST, true)
for _, n in ipairs({ "SMFIF_ADDHDRS", "SMFIF_CHGHDRS", "SMFIF_CHGBODY",
    "SMFIF_ADDRCPT", "SMFIF_DELRCPT", "SMFIF_QUARANTINE",
    "SMFIF_CHGFROM" }) do
	want(conn, "action", n, _G[n], false)
end
session(conn, { client = "192.0.2.1" })
mt.disconnect(conn)

-- An older MTA: no NODATA, NOUNKNOWN or no-reply bits, no SETSYMLIST.
-- daneguard must ask for nothing it was not offered (libmilter would
-- otherwise refuse the negotiation) and still accept at MAIL FROM;
-- libmilter answers connect and HELO in its place.
local offered = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80
conn = open(offered, 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20)
for _, n in ipairs({ "SMFIP_NODATA", "SMFIP_NOUNKNOWN", "SMFIP_NR_CONN",
    "SMFIP_NR_HELO" }) do
	want(conn, "option", n, _G[n], false)
end
for _, n in ipairs({ "SMFIP_NORCPT", "SMFIP_NOHDRS", "SMFIP_NOEOH",
    "SMFIP_NOBODY" }) do
	want(conn, "option", n, _G[n], true)
end
want(conn, "action", "SMFIF_SETSYMLIST", SMFIF_SETSYMLIST, false)
session(conn, {
	client = "192.0.2.2",
	connect_macros = { "{daemon_addr}", "127.0.0.1", "{daemon_port}", "25" },
	mail_macros = { "{tls_version}", "TLSv1.3" },
})
mt.disconnect(conn)
