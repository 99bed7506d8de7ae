"""The decisions, as pure functions: the sleep/wake state machine (`lifecycle`), idle policies (`policy`),
keep-warm schedules, prices, the manager's settings and the simulation engine. No AWS calls, no clock reads."""
