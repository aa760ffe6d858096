-- close.lua - connections that end early: close without connect (the
-- private pointer is NULL), after negotiation only, after connect only,
-- abruptly; signals while connections are open. daneguard must keep
-- answering afterwards.
dofile(SRCDIR .. "/tests/milter/common.lua")
start()

-- Connected and gone without a word.
local conn = mt.connect("unix:" .. SOCKET, 100, 0.05)
assert(conn ~= nil, "connect")
mt.disconnect(conn, false)

-- Negotiated, then QUIT: xxfi_close without xxfi_connect.
conn = open()
mt.disconnect(conn)

-- Connect and HELO, then QUIT before MAIL FROM.
conn = open()
check(mt.conninfo(conn, "client.example.test", "192.0.2.20"), "conninfo")
expect_reply(conn, SMFIR_CONTINUE, "connect")
check(mt.helo(conn, "client.example.test"), "helo")
mt.disconnect(conn)

-- Connect, then an abrupt close.
conn = open()
check(mt.conninfo(conn, "client.example.test", "192.0.2.21"), "conninfo")
mt.disconnect(conn, false)

-- SIGUSR2 (sweep now) and SIGUSR1 (reload) with a session open: the
-- session goes on, and later ones too.
conn = open()
check(mt.conninfo(conn, "client.example.test", "192.0.2.22"), "conninfo")
mt.signal(12)
mt.signal(10)
mt.sleep(0.2)
check(mt.helo(conn, "client.example.test"), "helo")
check(mt.mailfrom(conn, "<a@example.test>"), "mailfrom")
expect_reply(conn, SMFIR_ACCEPT, "mail from after signals")
mt.disconnect(conn)

-- Many short connections in a row (worker pool, private data reuse).
for i = 1, 50 do
	conn = open()
	session(conn, { client = "192.0.2." .. (100 + i % 50) })
	mt.disconnect(conn)
end
