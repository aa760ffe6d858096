/*
 * state - the four states of every check, in the monitoring-plugin
 * order (their exit codes): the one vocabulary of lib/verdict's rules,
 * the guard's report, status.json, metrics and --check.
 */
#ifndef DG_STATE_H
#define DG_STATE_H

enum verdict_state {
	VERDICT_OK = 0,
	VERDICT_WARNING = 1,
	VERDICT_CRITICAL = 2,
	VERDICT_UNKNOWN = 3
};

/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *verdict_state_name(enum verdict_state state);

#endif
