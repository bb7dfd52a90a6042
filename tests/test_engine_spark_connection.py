"""What SparkConnection decides without a SparkSession: which statements give rows, and Spark's error lines."""

from sovaudit.engines.spark import returns_rows, spark_message


def test_a_query_after_its_header_comments_gives_rows():
    assert returns_rows("/* Events per UTC day */ /* and jurisdiction */ SELECT 1")
    assert returns_rows("-- a header\n  WITH a AS (SELECT 1) SELECT * FROM a")
    assert not returns_rows("/* SELECT in a comment */ CREATE OR REPLACE TEMPORARY VIEW v AS SELECT 1")
    assert not returns_rows("CACHE LAZY TABLE checks_lake_core")


def test_a_failure_inside_the_jvm_reads_as_the_java_exceptions_line():
    class JavaError(Exception):
        pass

    text = ("An error occurred while calling o1147.getResult.\n"
            ": org.apache.spark.SparkException: Exception thrown in awaitResult: \n\tat org.apache.spark.util...")
    assert spark_message(JavaError(text)) == "org.apache.spark.SparkException: Exception thrown in awaitResult:"
    assert spark_message(ValueError("[PARSE_SYNTAX_ERROR] Syntax error at or near '5'.\n== SQL ==")) == (
        "[PARSE_SYNTAX_ERROR] Syntax error at or near '5'.")
