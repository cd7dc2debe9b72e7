# expect: S015 line 4
import enum

enum.bltns.open('/etc/passwd')
