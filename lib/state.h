/*
 * state - the checks of daneguard(8) and the four states of every check,
 * in the monitoring-plugin order (their exit codes): the one vocabulary
 * of lib/verdict's rules, the guard's report, status.json, metrics,
 * guard.state, the log and --check.
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

/* Severity for "the worst of": OK 0 < WARNING 1 < UNKNOWN 2 < CRITICAL 3
 * (a check that could not tell is not worse than one that saw a
 * failure). */
int verdict_state_rank(enum verdict_state state);

/* The checks, by their names in daneguard(8); M1: the MTA calls the
 * milter. */
enum check_id {
	CHECK_G1,
	CHECK_G2,
	CHECK_G3,
	CHECK_G4,
	CHECK_G5,
	CHECK_G6,
	CHECK_G7,
	CHECK_G8,
	CHECK_G9,
	CHECK_G10,
	CHECK_G11,
	CHECK_M1
};

/* "G1" ... "G11", "M1"; "?" for a value outside the enum. */
const char *check_name(enum check_id id);

/* The check named name (as check_name spells it) into *id: 0, or -1 when
 * there is no such check. */
int check_parse(const char *name, enum check_id *id);

#endif
