# expect: S016 line 2
from cdk.validators import engine
