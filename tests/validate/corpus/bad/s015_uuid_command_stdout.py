# expect: S015 line 4
import uuid

uuid._get_command_stdout('sh', '-c', 'id')
