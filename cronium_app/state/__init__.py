"""Reflex states of the web UI: AppState (the signed-in user), one state per
page, and the mixins the page states share (paged lists, editors, saving,
live pages). What the states show is worked out in cronium_app/display."""
