/*
 * state - see state.h.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "state.h"

const char *
verdict_state_name(enum verdict_state state)
{
	switch (state) {
	case VERDICT_OK:
		return "OK";
	case VERDICT_WARNING:
		return "WARNING";
	case VERDICT_CRITICAL:
		return "CRITICAL";
	case VERDICT_UNKNOWN:
		break;
	}
	return "UNKNOWN";
}

int
verdict_state_rank(enum verdict_state state)
{
	switch (state) {
	case VERDICT_OK:	return 0;
	case VERDICT_WARNING:	return 1;
	case VERDICT_UNKNOWN:	return 2;
	case VERDICT_CRITICAL:	return 3;
	}
	return 2;
}

/* The one table of check names. */
static const char *const check_names[] = {
	[CHECK_G1] = "G1",
	[CHECK_G2] = "G2",
	[CHECK_G3] = "G3",
	[CHECK_G4] = "G4",
	[CHECK_G5] = "G5",
	[CHECK_G6] = "G6",
	[CHECK_G7] = "G7",
	[CHECK_G8] = "G8",
	[CHECK_G9] = "G9",
	[CHECK_G10] = "G10",
	[CHECK_G11] = "G11",
	[CHECK_M1] = "M1"
};

#define CHECK_COUNT	(sizeof(check_names) / sizeof(check_names[0]))

const char *
check_name(enum check_id id)
{
	if ((size_t)id >= CHECK_COUNT)
		return "?";
	return check_names[id];
}

int
check_parse(const char *name, enum check_id *id)
{
	size_t i;

	for (i = 0; i < CHECK_COUNT; i++)
		if (strcmp(name, check_names[i]) == 0) {
			*id = (enum check_id)i;
			return 0;
		}
	return -1;
}
