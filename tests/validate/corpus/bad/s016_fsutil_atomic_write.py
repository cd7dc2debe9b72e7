# expect: S016 line 4
import cdk

cdk.fsutil.atomic_write_bytes('/etc/cron.d/x', b'')
