"""The Firehose streams and the workbench agree: which entities stream, the layout, the file names."""

from __future__ import annotations

from ecomdwh import streaming
from ecomdwh.contract import ENTITIES, entity_for_path
from tests.terraform.tfconfig import interpolate, module


def test_the_streams_feed_the_entities_the_producer_sends():
    sources = module("streaming").variables["event_sources"]["default"]
    assert sorted(sources) == sorted(ENTITIES[name].path for name in streaming.STREAMED)
    for path in sources:
        entity = entity_for_path(*path.split("/"))
        assert entity is not None and entity.format == "jsonl", f"{path}: streams write JSON Lines entities"


def test_the_stream_names_and_objects_are_the_ones_the_local_delivery_writes():
    config = module("streaming")
    assert config.locals["file_extension"] == streaming.FILE_EXTENSION
    assert streaming.FILE_EXTENSION in ENTITIES["shipment_events"].extensions
    name = interpolate(config.locals["name_prefix"], {"var.project": "ecomdwh", "var.environment": "dev"})
    expected = streaming.stream_name("ecomdwh", "dev", ENTITIES["shipment_events"])
    assert f"{name}-logistics-shipment-events" == expected
    stream = config.resource("aws_kinesis_firehose_delivery_stream", "this")
    s3 = stream["extended_s3_configuration"][0]
    assert s3["compression_format"] == "GZIP"
    assert s3["buffering_interval"] == "${var.buffering_interval_seconds}"
    assert config.variables["buffering_interval_seconds"]["default"] == streaming.BUFFER_SECONDS
    assert config.variables["buffering_size_mb"]["default"] * 1024 * 1024 == streaming.BUFFER_BYTES
    # The delimiter as the Firehose API takes it (the two characters backslash and n).
    processors = s3["processing_configuration"][0]["processors"]
    assert [(p["type"], p["parameters"][0]["parameter_value"]) for p in processors] == [
        ("AppendDelimiterToRecord", "\\n")
    ]
    assert stream["server_side_encryption"][0]["key_type"] == "CUSTOMER_MANAGED_CMK"
    assert s3["error_output_prefix"].startswith("${local.error_prefixes")
