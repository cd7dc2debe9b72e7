# expect: S015 line 4
import dataclasses

run = dataclasses.builtins
