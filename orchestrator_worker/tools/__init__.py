"""Tools: sending a message through a user's Slack, Discord or Teams hook,
calling a webhook, sending an email. The worker runs them for `tool` jobs
(executors/tool.py); the app imports `kinds` (what a tool is), `templates`
(checking and previewing templates) and `deliver` (the "test" action) from
here, so this file imports nothing."""
