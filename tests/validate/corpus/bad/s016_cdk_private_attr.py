# expect: S016 line 4
import cdk

cdk._EXPORTS
