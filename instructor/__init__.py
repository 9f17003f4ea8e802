"""The instructor's side of the course (never installed): the assignments' solutions and the tool that fills them in."""
