"""``secplan breakdown``: propose Milestones and work items for a plan written as prose."""

from secplan.breakdown.propose import Breakdown, Proposal, propose
from secplan.breakdown.write import render_section, write_breakdown

__all__ = ["Breakdown", "Proposal", "propose", "render_section", "write_breakdown"]
