"""What meetings answers an agency about its own meetings: its agenda across every case (the query is
MeetingStore.agenda), and one meeting's plan (MeetingStore.plan_of).

Need to know: an agency's agenda holds the meetings it organises or takes part in, and nothing else. The
programme's coordinators (多機関協働) are involved in every case, but a meeting's records go to its organizer and
participants only (a 支援会議's to its members, by the law), so a coordinator's agenda is its own meetings too,
not every meeting of the city; it reads another meeting only once it is made a participant.
"""

from __future__ import annotations

AGENDA_LIMIT = 100
AGENDA_MAX = 500
