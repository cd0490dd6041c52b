"""The training room: a task's coordinator and participants, round by round."""
