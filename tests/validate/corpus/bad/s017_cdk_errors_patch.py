# expect: S017 line 4
import cdk

cdk.SourceRecord.model_config = {}
