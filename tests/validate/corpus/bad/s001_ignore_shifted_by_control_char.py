# expect: S001 line 3; S018 line 2
x = 1  #  cdk: ignore[S001]
import os
