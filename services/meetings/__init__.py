"""meetings: 重層的支援会議 and 支援会議, participants and support plans.

Not built yet: the meetings issue brings its API, events and data. Nothing here runs, and
`backbone up` does not start it.
"""
