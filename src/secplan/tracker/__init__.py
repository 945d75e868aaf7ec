"""Trackers: where Epics, Milestones and Issues live (the embedded local store, or GitLab)."""
