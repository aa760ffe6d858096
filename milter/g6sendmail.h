/*
 * g6sendmail - what sendmail tells the guard without a probe, as report
 * items: G1 for a listener whose daemon has STARTTLS switched off
 * ({daemon_flags} S, DaemonPortOptions M=S), and G6 for the clients that
 * Srv_Features entries of the access map deny STARTTLS (sendmail has no
 * XCLIENT, so the guard cannot impersonate them to find out by probing).
 *
 * Runs in the guard thread after the listeners were snapshotted; reads
 * the access map's text source (sendmail_access) there, never in a
 * milter callback.
 */
#ifndef DG_G6SENDMAIL_H
#define DG_G6SENDMAIL_H

#include "conf.h"
#include "report.h"

/*
 * Add to r, from r->listeners and conf->sendmail_access:
 *  - G1 per listener on which sessions came through a daemon with
 *    {daemon_flags} S: CRITICAL while the latest one did, OK once the
 *    latest did not (the daemon was fixed); addr is the listener
 *    ("127.0.0.1:25", "[::1]:25"), alg "".
 *  - G6 CRITICAL per Srv_Features entry whose value withholds STARTTLS,
 *    client = the entry's key ("*" for the bare tag), host and addr "";
 *    one G6 OK item (client "") when no entry does; one G6 UNKNOWN item
 *    when the file cannot be read or parsed.
 * Nothing is added for what is not configured or not seen.
 */
void g6sendmail_add(const struct conf *conf, struct report *r);

#endif
