package glue_local.runtime;

import org.apache.hadoop.mapreduce.JobContext;
import org.apache.hadoop.mapreduce.OutputCommitter;
import org.apache.hadoop.mapreduce.TaskAttemptContext;

/**
 * An output committer that commits nothing: Spark then writes each file straight to its final key.
 *
 * Hadoop's file committers write under _temporary and rename, and an S3 rename is a copy and a
 * delete with probes around it (docs/glue.md counts them), where this committer with the
 * runtime's CreatePerformanceS3AFileSystem sends one PUT. Glue on AWS writes to the final key
 * too, with its S3-optimised committer. This is safe for the jobs of
 * this project because a run becomes visible only through its manifest, written last
 * (glue_local/etl/silver_store.py), never through its folders. The local runtime compiles it
 * at setup (ecomdwh.devtools.toolchain) and names it in spark.sql.parquet.output.committer.class.
 */
public class DirectOutputCommitter extends OutputCommitter {
    public DirectOutputCommitter() {}

    @Override
    public void setupJob(JobContext jobContext) {}

    @Override
    public void setupTask(TaskAttemptContext taskContext) {}

    @Override
    public boolean needsTaskCommit(TaskAttemptContext taskContext) {
        return false;
    }

    @Override
    public void commitTask(TaskAttemptContext taskContext) {}

    @Override
    public void abortTask(TaskAttemptContext taskContext) {}
}
