-- common.lua - helpers for the miltertest scripts of daneguard(8).
--
-- miltertest -D DANEGUARD=... -D CONF=... -D SOCKET=... -D SRCDIR=...
-- Every script starts the real daneguard in the foreground on a unix
-- socket (over TCP the no-reply packets would wait for Nagle), drives
-- sessions as an MTA would, and checks every reply: daneguard must
-- answer accept or continue, never reject or tempfail.

mt.set_timeout(5)

-- Lua 5.1 has unpack, later versions table.unpack.
if table.unpack == nil then
	table.unpack = unpack
end

function start()
	mt.startfilter(DANEGUARD, "-f", "-c", CONF, "-p", "unix:" .. SOCKET)
end

-- A new milter connection, negotiated with what the MTA offers (nil:
-- libmilter's defaults, everything). Explicit, so miltertest records the
-- protocol options daneguard asked for.
function open(protocol, actions)
	local conn = mt.connect("unix:" .. SOCKET, 100, 0.05)
	if conn == nil then
		error("cannot connect to " .. SOCKET)
	end
	local err = mt.negotiate(conn, 6, protocol, actions)
	if err ~= nil then
		error("negotiate: " .. err)
	end
	return conn
end

local names = {
	[SMFIR_ACCEPT] = "accept", [SMFIR_CONTINUE] = "continue",
	[SMFIR_REJECT] = "reject", [SMFIR_TEMPFAIL] = "tempfail",
	[SMFIR_DISCARD] = "discard", [SMFIR_REPLYCODE] = "replycode",
	[SMFIR_SKIP] = "skip",
}

function expect_reply(conn, want, stage)
	local got = mt.getreply(conn)
	if got ~= want then
		error(stage .. ": reply " .. tostring(names[got] or got) ..
		    ", want " .. names[want])
	end
end

function check(err, stage)
	if err ~= nil then
		error(stage .. ": " .. err)
	end
end

-- One SMTP session up to MAIL FROM: connect macros, connect, HELO, MAIL
-- macros, MAIL FROM. Connect and HELO are no-reply stages (miltertest
-- reports them as continue); MAIL FROM must be accepted.
function session(conn, s)
	if s.connect_macros then
		check(mt.macro(conn, SMFIC_CONNECT, table.unpack(s.connect_macros)),
		    "connect macros")
	end
	check(mt.conninfo(conn, s.client_name or "client.example.test",
	    s.client), "conninfo")
	expect_reply(conn, SMFIR_CONTINUE, "connect")
	check(mt.helo(conn, s.helo or "client.example.test"), "helo")
	expect_reply(conn, SMFIR_CONTINUE, "helo")
	if s.starttls_helo then
		-- the second EHLO after STARTTLS
		check(mt.helo(conn, s.helo or "client.example.test"), "helo 2")
		expect_reply(conn, SMFIR_CONTINUE, "helo 2")
	end
	for i = 1, (s.messages or 1) do
		if s.mail_macros then
			check(mt.macro(conn, SMFIC_MAIL,
			    table.unpack(s.mail_macros)), "mail macros")
		end
		check(mt.mailfrom(conn, "<sender@example.test>"), "mailfrom")
		expect_reply(conn, SMFIR_ACCEPT, "mail from " .. i)
	end
end
