"""One way to run a whole consortium in one process (:mod:`fedledger.consortium.runner`)."""

from fedledger.consortium.runner import Consortium, Member, RoleOptions, TaskRun

__all__ = ["Consortium", "Member", "RoleOptions", "TaskRun"]
