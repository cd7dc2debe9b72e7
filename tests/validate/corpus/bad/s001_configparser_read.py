# expect: S001 line 2
import configparser
