# expect: S016 line 4
import cdk

cdk.sdk.http.requests.get('http://x')
