"""DHIS2 message conversations (docs/dhis2.md), one concern per module: creation, replies, recipients, tickets,
per-user state (read, follow-up), removal and hard delete, reading, listing with filters, and the rendering of
DHIS2's JSON, with DHIS2's texts and check order. Handlers import the module they need.

Holes in DHIS2 that Postbox closes: list and query= never reach other users' conversations; internal
notes are hidden from non-managers everywhere (get, list, search, MQTT); only a superuser may change
another user's read/follow-up state or participation.
"""
