"""The fault suite: the backbone under load while things break, checked for loss, duplicates and order."""
