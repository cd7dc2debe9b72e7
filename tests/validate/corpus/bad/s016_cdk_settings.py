# expect: S016 line 2
from cdk.settings import Settings
