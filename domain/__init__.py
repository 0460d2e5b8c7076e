"""Pure domain logic: functions of their inputs and an `as_of` instant, with no I/O and no clock."""
