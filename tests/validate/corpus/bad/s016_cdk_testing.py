# expect: S016 line 2
from cdk.testing import demo_api
