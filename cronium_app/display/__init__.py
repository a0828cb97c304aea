"""What the pages show, worked out from service values: times, durations,
sizes and JSON as short strings (`formatting`), the plain rows that states
hold and pages render (`rows`), and errors as the sentences shown next to a
form's fields (`messages`).

Plain functions and TypedDicts: no database, no Reflex state. States call
them; so could anything else that shows the same values."""
