"""meetings: 重層的支援会議 and 支援会議 under their legal rules, invitations, support plans."""
