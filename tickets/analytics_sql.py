"""The SQL behind the dashboard's analytics and ticket list (tickets/analytics.py), in one place.

Portable on purpose (named parameters, CASE instead of boolean arithmetic, substr on ISO-8601 text, no
date functions): PostgreSQL is next. Every query is bounded by an index of ticket_insights (see
tickets/insight_migrations.py): (guild_id, created_at), (guild_id, closed_at), (ticket_id, role,
created_at) for per-ticket seeks, interactions by (guild_id, created_at, route, feedback) and (ticket_id,
…); and what closed tickets need is computed once into ticket_facts.
The one SQLite-only part is full-text search (FTS5, `MESSAGE_SEARCH`): a tsvector column with a GIN
index would take its place on PostgreSQL.
"""

from __future__ import annotations

# -- the period's tickets ---------------------------------------------------------------------------------

OPENED_PER_DAY = """
SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS n FROM tickets
WHERE guild_id = :guild_id AND created_at >= :since AND created_at < :until
GROUP BY substr(created_at, 1, 10)"""

CLOSED_PER_DAY = """
SELECT substr(closed_at, 1, 10) AS day, COUNT(*) AS n FROM tickets
WHERE guild_id = :guild_id AND closed_at >= :since AND closed_at < :until
GROUP BY substr(closed_at, 1, 10)"""

# Open at a moment = opened before it − closed before it (a ticket closes after it opens): two index-only counts.
OPENED_BEFORE = "SELECT COUNT(*) FROM tickets WHERE guild_id = :guild_id AND created_at < :at"
CLOSED_BEFORE = "SELECT COUNT(*) FROM tickets WHERE guild_id = :guild_id AND closed_at < :at"

OPENED_PER_HOUR = """
SELECT substr(created_at, 1, 13) AS hour, COUNT(*) AS n FROM tickets
WHERE guild_id = :guild_id AND created_at >= :since AND created_at < :until
GROUP BY substr(created_at, 1, 13)"""

CATEGORIES = """
SELECT category, COUNT(*) AS n FROM tickets
WHERE guild_id = :guild_id AND created_at >= :since AND created_at < :until
GROUP BY category ORDER BY n DESC, category"""

# What analytics need of a ticket: first bot answer, first staff message (time, author, id), whether staff ever
# wrote and whether the opener pressed Solved. A few index seeks per ticket (ticket_messages_ticket_role,
# interactions_ticket_feedback): done once per closed ticket (ticket_facts), live only for open ones.
_FACT_COLUMNS = """
  (SELECT MIN(m.created_at) FROM ticket_messages m WHERE m.ticket_id = t.id AND m.role = 'bot') AS first_bot_at,
  (SELECT m.created_at FROM ticket_messages m WHERE m.ticket_id = t.id AND m.role = 'staff'
   ORDER BY m.created_at, m.id LIMIT 1) AS first_staff_at,
  (SELECT m.author_id FROM ticket_messages m WHERE m.ticket_id = t.id AND m.role = 'staff'
   ORDER BY m.created_at, m.id LIMIT 1) AS first_staff_id,
  (SELECT m.id FROM ticket_messages m WHERE m.ticket_id = t.id AND m.role = 'staff'
   ORDER BY m.created_at, m.id LIMIT 1) AS first_staff_message,
  CASE WHEN EXISTS (SELECT 1 FROM ticket_messages m WHERE m.ticket_id = t.id AND m.role = 'staff')
       THEN 1 ELSE 0 END AS had_staff,
  CASE WHEN EXISTS (SELECT 1 FROM interactions i WHERE i.ticket_id = t.id AND i.feedback = 'solved')
       THEN 1 ELSE 0 END AS solved"""

FACTS_THROUGH = "SELECT MAX(closed_at) FROM ticket_facts WHERE guild_id = :guild_id"

# The next batch of closed tickets without facts, oldest close first, from :closed_from on.
FACTS_TO_RECORD = f"""
SELECT t.id, t.guild_id, t.created_at, t.closed_at, t.opener_id, t.closed_by, t.close_reason, {_FACT_COLUMNS}
FROM tickets t
WHERE t.guild_id = :guild_id AND t.closed_at >= :closed_from
  AND NOT EXISTS (SELECT 1 FROM ticket_facts f WHERE f.ticket_id = t.id)
ORDER BY t.closed_at LIMIT :batch"""

FACT_FIELDS = (
    "ticket_id", "guild_id", "created_at", "closed_at", "opener_id", "closed_by", "close_reason", "first_bot_s",
    "first_staff_s", "first_staff_id", "first_staff_message", "resolution_s", "had_staff", "solved",
)  # fmt: skip


def facts_insert(rows: int) -> str:
    """One INSERT of `rows` facts (named parameters :<field><n>), duplicates ignored."""
    values = ", ".join("(" + ", ".join(f":{f}{n}" for f in FACT_FIELDS) + ")" for n in range(rows))
    return f"INSERT INTO ticket_facts ({', '.join(FACT_FIELDS)}) VALUES {values} ON CONFLICT (ticket_id) DO NOTHING"


_DURATION_COLUMNS = "first_bot_s, first_staff_s, first_staff_id, first_staff_message, resolution_s"

# Tickets opened in the period: closed ones from their facts (index only), open ones computed now.
CLOSED_OPENED_IN_PERIOD = f"""
SELECT {_DURATION_COLUMNS} FROM ticket_facts
WHERE guild_id = :guild_id AND created_at >= :since AND created_at < :until"""

OPEN_OPENED_IN_PERIOD = f"""
SELECT t.id, t.guild_id, t.created_at, t.closed_at, t.opener_id, t.closed_by, t.close_reason, {_FACT_COLUMNS}
FROM tickets t
WHERE t.guild_id = :guild_id AND t.created_at >= :since AND t.created_at < :until AND t.closed_at IS NULL"""

MESSAGE_AUTHOR = "SELECT author_name FROM ticket_messages WHERE id = :id"

# Tickets closed in the period: who closed them, why, whether staff ever wrote, whether Solved was pressed.
CLOSED_TICKETS = """
SELECT opener_id, closed_by, close_reason, had_staff, solved FROM ticket_facts
WHERE guild_id = :guild_id AND closed_at >= :since AND closed_at < :until"""

ROUTES = """
SELECT route, COUNT(*) AS n,
  SUM(CASE WHEN feedback = 'solved' THEN 1 ELSE 0 END) AS solved,
  SUM(CASE WHEN feedback = 'staff' THEN 1 ELSE 0 END) AS to_staff
FROM interactions
WHERE guild_id = :guild_id AND created_at >= :since AND created_at < :until
GROUP BY route"""

# Questions the assistant could not answer: handed to staff, answered only by the fallback, or an answer
# after which the opener asked for staff. The newest first (read backwards along the time index, so only as far
# as the cap), capped (they are grouped in Python).
GAP_QUESTIONS = """
SELECT id, ticket_id, route, feedback, detail, created_at FROM interactions
WHERE guild_id = :guild_id AND created_at >= :since AND created_at < :until
  AND (route IN ('staff', 'fallback') OR feedback = 'staff')
ORDER BY created_at DESC LIMIT :limit"""

STAFF_REPLY_AFTER = """
SELECT content FROM ticket_messages
WHERE ticket_id = :ticket_id AND role = 'staff' AND created_at >= :at
ORDER BY created_at, id LIMIT 1"""

# -- the ticket list --------------------------------------------------------------------------------------

LIST_COLUMNS = """
t.id, t.subject, t.category, t.status, t.opener_id, t.created_at, t.closed_at, t.close_reason, t.priority,
t.claimed_by,
(SELECT m.author_name FROM ticket_messages m WHERE m.ticket_id = t.id AND m.author_id = t.opener_id
 ORDER BY m.id LIMIT 1) AS opener_name,
(SELECT c.staff_name FROM ticket_claims c WHERE c.ticket_id = t.id AND c.staff_id = t.claimed_by
 ORDER BY c.id DESC LIMIT 1) AS claimer_name"""

# Tickets with a message matching the full-text query (FTS5 syntax, built by analytics.fts_query).
MESSAGE_SEARCH = """
t.id IN (SELECT m.ticket_id FROM ticket_messages m WHERE m.id IN
         (SELECT rowid FROM ticket_messages_fts WHERE ticket_messages_fts MATCH :fts))"""

# The same on PostgreSQL (tickets/insight_migrations.py: a GIN index on the messages' tsvector); `fts` is a
# tsquery there (analytics.fts_query).
MESSAGE_SEARCH_POSTGRES = """
t.id IN (SELECT m.ticket_id FROM ticket_messages m
         WHERE to_tsvector('simple', m.content) @@ to_tsquery('simple', :fts))"""

OPENERS_NAMED = """
SELECT DISTINCT author_id FROM ticket_messages
WHERE role = 'user' AND lower(author_name) = lower(:name) LIMIT 50"""

# -- the staff desk (issue 10) ----------------------------------------------------------------------------

# Tickets each member of staff took in the period: claimed, transferred to them, or assigned by the rotation.
CLAIMS_PER_STAFF = """
SELECT staff_id, MAX(staff_name) AS name, COUNT(*) AS n FROM ticket_claims
WHERE guild_id = :guild_id AND created_at >= :since AND created_at < :until AND staff_id IS NOT NULL
  AND action IN ('claimed', 'transferred', 'assigned')
GROUP BY staff_id"""

CLAIMERS_NAMED = """
SELECT DISTINCT staff_id FROM ticket_claims WHERE lower(staff_name) = lower(:name) AND staff_id IS NOT NULL LIMIT 50"""

TICKET_CLAIMER = """
SELECT t.claimed_by,
  (SELECT c.staff_name FROM ticket_claims c WHERE c.ticket_id = t.id AND c.staff_id = t.claimed_by
   ORDER BY c.id DESC LIMIT 1) AS name
FROM tickets t WHERE t.id = :ticket_id"""

TICKET_NOTES = """
SELECT author_name, created_at, content FROM ticket_notes WHERE ticket_id = :ticket_id ORDER BY id"""

# -- ratings (tables of tickets/care_migrations.py) -------------------------------------------------------

# The period's ratings: given (rated_at) in it.
RATINGS = """
SELECT stars, COUNT(*) AS n FROM ticket_ratings
WHERE guild_id = :guild_id AND rated_at >= :since AND rated_at < :until AND stars IS NOT NULL
GROUP BY stars"""

TICKET_RATING = "SELECT stars, comment FROM ticket_ratings WHERE ticket_id = :ticket_id AND stars IS NOT NULL"

# Whom a rating is about: every member of staff who wrote in the ticket, and whoever closed it if not its opener
# (only staff can close someone else's ticket).
RATED_WRITERS = """
SELECT DISTINCT r.ticket_id, r.stars, m.author_id AS staff_id, m.author_name AS name
FROM ticket_ratings r JOIN ticket_messages m ON m.ticket_id = r.ticket_id AND m.role = 'staff'
WHERE r.guild_id = :guild_id AND r.rated_at >= :since AND r.rated_at < :until AND r.stars IS NOT NULL"""

RATED_CLOSERS = """
SELECT r.ticket_id, r.stars, t.closed_by AS staff_id FROM ticket_ratings r JOIN tickets t ON t.id = r.ticket_id
WHERE r.guild_id = :guild_id AND r.rated_at >= :since AND r.rated_at < :until AND r.stars IS NOT NULL
  AND t.closed_by IS NOT NULL AND t.closed_by != t.opener_id"""

FILTERS = {
    "status": "t.status = :status",
    "category": "t.category = :category",
    "route": "EXISTS (SELECT 1 FROM interactions i WHERE i.ticket_id = t.id AND i.route = :route)",
    "since": "t.created_at >= :since",
    "until": "t.created_at < :until",
    "priority": "t.priority = :priority",
    "claimer_id": "t.claimed_by = :claimer_id",
    "rating": "EXISTS (SELECT 1 FROM ticket_ratings r WHERE r.ticket_id = t.id AND r.stars = :rating)",
}
