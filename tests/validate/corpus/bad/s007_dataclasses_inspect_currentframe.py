# expect: S007 line 4
import dataclasses

frame = dataclasses.inspect.currentframe
