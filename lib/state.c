/*
 * state - see state.h.
 */
#include "config.h"

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
