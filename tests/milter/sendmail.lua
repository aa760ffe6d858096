-- sendmail.lua - sessions with the macros sendmail 8.17 sends: addresses
-- in "IPv6:0:0:0:0:0:0:0:1" form, {daemon_addr} 0.0.0.0 or :: for a
-- daemon on every address with the interface in {if_addr},
-- {daemon_name}, {daemon_flags} ("SS": M=S, no STARTTLS on that daemon),
-- the TLS macros; then what the guard made of them in status.json.
--
-- This script runs its own daneguard with its own state directory, a pid
-- file (SIGUSR2 asks for a sweep) and sendmail_access naming an access
-- map written here, so that status.json shows the listeners, the G1
-- finding from {daemon_flags} and the G6 finding from Srv_Features.
dofile(SRCDIR .. "/tests/milter/common.lua")

local function sh(cmd)
	local ok = os.execute(cmd)
	if ok ~= true and ok ~= 0 then
		error("command failed: " .. cmd)
	end
end

local function slurp(path)
	local f = io.open(path, "r")
	if f == nil then
		return nil
	end
	local s = f:read("*a")
	f:close()
	return s
end

local function spew(path, text)
	local f = assert(io.open(path, "w"))
	f:write(text)
	f:close()
end

local dir = SOCKET:match("^(.*)/[^/]*$") .. "/sendmail"
sh("rm -rf '" .. dir .. "' && mkdir -p '" .. dir .. "/state'")
-- daneguard drops to nobody when run as root
sh("[ \"$(id -u)\" != 0 ] || chown nobody '" .. dir .. "/state'")
spew(dir .. "/access", "# test access map\n" ..
    "Connect:127\tRELAY\n" ..
    "Srv_Features:192.0.2.77\tS\n" ..
    "Srv_Features:192.0.2\tV\n")
local conf = assert(slurp(CONF))
conf = conf:gsub('state_dir = "[^"]*"', 'state_dir = "' .. dir .. '/state"')
spew(dir .. "/daneguard.conf",
    'sendmail_access = "' .. dir .. '/access"\n' .. conf)
local pidfile = dir .. "/daneguard.pid"
mt.startfilter(DANEGUARD, "-f", "-c", dir .. "/daneguard.conf", "-p",
    "unix:" .. SOCKET, "-P", pidfile)

-- TLS over IPv6 loopback, daemon MTA-v6 without modifiers.
local conn = open()
session(conn, {
	client = "::1",
	connect_macros = { "{daemon_addr}", "IPv6:0:0:0:0:0:0:0:1",
	    "{daemon_port}", "25", "{daemon_name}", "MTA-v6",
	    "{daemon_flags}", "", "{client_addr}", "IPv6:0:0:0:0:0:0:0:1" },
	starttls_helo = true,
	mail_macros = { "{tls_version}", "TLSv1.3", "{cipher}",
	    "TLS_AES_128_GCM_SHA384", "{cipher_bits}", "128",
	    "{daemon_addr}", "IPv6:0:0:0:0:0:0:0:1", "{daemon_port}", "25" },
})
mt.disconnect(conn)

-- Plaintext to a daemon on 0.0.0.0 with M=ES ({daemon_flags} "EE SS"),
-- reached on 192.0.2.1; the client is IPv4-mapped.
conn = open()
session(conn, {
	client = "192.0.2.77",
	connect_macros = { "{daemon_addr}", "0.0.0.0", "{daemon_port}", "25",
	    "{if_addr}", "192.0.2.1", "{daemon_name}", "MTA",
	    "{daemon_flags}", "EE SS", "{client_addr}", "IPv6:::ffff:192.0.2.77" },
	mail_macros = { "{daemon_addr}", "0.0.0.0", "{daemon_port}", "25",
	    "{if_addr}", "192.0.2.1" },
})
mt.disconnect(conn)

-- A daemon on :: reached on 2001:db8::25 in sendmail's spelling; SMTPS
-- (M=s, "s") is TLS, not "no STARTTLS".
conn = open()
session(conn, {
	client = "2001:db8::66",
	connect_macros = { "{daemon_addr}", "IPv6:0:0:0:0:0:0:0:0",
	    "{daemon_port}", "465", "{if_addr}", "IPv6:2001:db8:0:0:0:0:0:25",
	    "{daemon_name}", "SMTPS", "{daemon_flags}", "s",
	    "{client_addr}", "IPv6:2001:db8:0:0:0:0:0:66" },
	mail_macros = { "{tls_version}", "TLSv1.2", "{cipher}",
	    "ECDHE-ECDSA-AES128-GCM-SHA256", "{cipher_bits}", "128" },
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

-- What the guard's next sweeps write (asked for with SIGUSR2).
local want = {
	'{"addr": "::1", "port": 25, "sessions": 1, "tls": 1, "plaintext": 0, "versions": {"TLSv1.0": 0, "TLSv1.1": 0, "TLSv1.2": 0, "TLSv1.3": 1',
	'{"addr": "192.0.2.1", "port": 25, "sessions": 1, "tls": 0, "plaintext": 1,',
	'{"addr": "2001:db8::25", "port": 465, "sessions": 1, "tls": 1, "plaintext": 0, "versions": {"TLSv1.0": 0, "TLSv1.1": 0, "TLSv1.2": 1,',
	'{"addr": "127.0.0.1", "port": 25, "sessions": 1, "tls": 1, "plaintext": 0, "versions": {"TLSv1.0": 1,',
	'"port": 25, "sessions": 1, "tls": 0, "plaintext": 1, "versions": {"TLSv1.0": 0, "TLSv1.1": 0, "TLSv1.2": 0, "TLSv1.3": 0, "other": 0}, "daemon": "MTA", "no_starttls": 1}',
	'{"check": "G1", "host": "", "addr": "192.0.2.1:25", "alg": "", "state": "CRITICAL", "reason": "sendmail daemon MTA on 192.0.2.1:25 offers no STARTTLS to anyone',
	'{"check": "G6", "host": "", "addr": "", "alg": "", "client": "192.0.2.77", "state": "CRITICAL", "reason": "STARTTLS withheld from client 192.0.2.77 on every sendmail listener: ' .. dir .. '/access:3 has \\"Srv_Features:192.0.2.77 S\\"',
}
local unwanted = {
	'"check": "G1", "host": "", "addr": "[::1]:25"',
	'"check": "G1", "host": "", "addr": "[2001:db8::25]:465"',
	'"check": "G1", "host": "", "addr": "127.0.0.1:25"',
	'"client": "192.0.2", ',
}
local status, missing
for _ = 1, 100 do
	status = slurp(dir .. "/state/status.json") or ""
	missing = nil
	for _, w in ipairs(want) do
		if status:find(w, 1, true) == nil then
			missing = w
			break
		end
	end
	if missing == nil then
		break
	end
	sh("kill -USR2 \"$(cat '" .. pidfile .. "')\" && sleep 0.1")
end
if missing ~= nil then
	error("status.json lacks " .. missing .. "\n" .. status)
end
for _, u in ipairs(unwanted) do
	if status:find(u, 1, true) ~= nil then
		error("status.json has " .. u .. "\n" .. status)
	end
end
