"""Who may convene a meeting: fix its time, call it off, record that it was held, confirm its plan.

The agency decides first (api.py): the meeting's organizer, or one of the programme's coordinators
(多機関協働: バックアップふじさわ, バックアップふじさわ社協) for every change but the plan, which the organizer
alone confirms. Within an agency, the person decides too:

- An agency's own system (its token) acts for the agency as a whole and keeps every right it had: it is the
  agency's own business which of its people pressed the button (the day in Fujisawa's coordinators act so).
- A staff member signed in at the identity provider convenes only with the `coordinator` role (調整役). The
  city convenes its 重層的支援会議 and 支援会議 through its multi-agency coordination (多機関協働事業), and the
  realm's role says exactly this ("schedules meetings, confirms plans"); any staff member of an involved agency
  may still read the meeting and ask for one (POST /v1/meetings), which is asking, not convening.
"""

from __future__ import annotations

from backbone.agencies import Agency

COORDINATOR_ROLE = "coordinator"

NOT_A_COORDINATOR = (
    "Only a staff member with the coordinator role (調整役) may schedule, cancel or hold a meeting, or confirm its "
    "plan; ask your agency's coordinator, or the identity provider's administrators for the role."
)


def may_convene(caller: Agency) -> bool:
    """An agency's system always; a signed-in staff member only with the coordinator role."""
    return caller.staff is None or COORDINATOR_ROLE in caller.staff.roles
