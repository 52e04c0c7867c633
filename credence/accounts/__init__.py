"""Accounts that sign in over HTTP: subjects (by their ID number) and agency officers (by name),
each with a one-time code sent to their registered contact and exchanged for a session token.

Provider API keys stay in ``screening.providers``: they are the gate's own machine credentials,
read from memory on every check; these are people's sessions, read from the store per request.
Secrets are stored only as hashes: codes as HMAC-SHA256 under ``CREDENCE_SIGN_IN_KEY``, tokens
as SHA-256, and the bookkeeping rows are keyed by an HMAC of the ID number, never the number.

What officers may do beyond reviewing lives here too: their roles (``model.roles``), the
relations they declare to subjects and stand aside from (``disputes.recusals``), and the manual actions
that need two of them, one to ask and a second to approve (``manual``).
"""
