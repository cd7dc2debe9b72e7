# expect: S016 line 2
from cdk.sdk.http import requests
