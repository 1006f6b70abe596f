"""S3 ObjectCreated under uploads/: verify the file and make it an asset, or delete it and say why."""

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext

from imagestudio.event_handler import event_handler
from imagestudio.operations.uploads import process_upload
from imagestudio.ports import current_ports as ports


@event_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> list[str]:
    # S3 sends keys URL-encoded ("uploads%2Fa%2Fb"), and the data class does not decode them.
    return [
        process_upload(ports(), unquote_plus(record.s3.get_object.key)) for record in S3Event(event).records
    ]
