# expect: S016 line 2
from cdk import open_registry
