# expect: S005 line 2 col 7
NAME = "__subclasses__"
