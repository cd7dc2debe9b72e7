# expect: S017 line 4
from cdk import AbstractSource

AbstractSource.check_connection = lambda self: (True, None)
