package org.apache.hadoop.fs.s3a;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.impl.FutureIOSupport;
import org.apache.hadoop.fs.impl.OpenFileParameters;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.fs.s3a.impl.StatusProbeEnum;
import org.apache.hadoop.util.Progressable;

/**
 * S3A whose create() asks S3 nothing before the upload when fs.s3a.create.performance is true.
 *
 * hadoop-aws 3.3.1 (the s3a jar that installs offline) looks before every create: a HEAD and a
 * LIST, to refuse a path that is a directory or, without overwrite, an existing file. Newer Hadoop
 * skips both under the same option. The jobs never create a file where a directory is, and never
 * rely on a create refusing a file: Spark's part files carry the write job's UUID, and the
 * runtime's own small files are written to replace what is there. An upload is then one PUT.
 * The probes are the create's own status lookup, package-private here, hence the package.
 *
 * Spark's writer then asks, on the same thread, for the status of each new file it has just
 * closed, for its length only (its write statistics): what this thread uploaded answers that one
 * question, without a HEAD. Files written to replace others (overwrite) are always asked of S3.
 *
 * Opening a file asks for its status too (a HEAD) unless the caller hands one over, which Spark's
 * text reader does not. The runtime's listed read registers the statuses of its one listing
 * (rememberListed); Spark already takes each file's length from that listing, so an open of one
 * of those files starts from the same status without asking again.
 *
 * Parquet files are read the same way: Spark lists a folder, then each task asks for a file's status
 * and opens it twice (its footer, then its row groups), a HEAD each time. A parquet file Spark's
 * listing saw through this filesystem answers those from the listing. The project's parquet files are
 * never rewritten in place (Spark's part files carry their write job's UUID), and Spark lists again
 * for every new read, so the listing is as fresh as the length Spark already reads the file by.
 */
public class CreatePerformanceS3AFileSystem extends S3AFileSystem {
    public static final String CREATE_PERFORMANCE = "fs.s3a.create.performance";

    private static final ThreadLocal<Boolean> CREATING = ThreadLocal.withInitial(() -> Boolean.FALSE);

    // The file this thread has just uploaded as a new file, and its length: Spark's writer asks for its
    // status next, on the same thread. Its next status question, delete or rename clears it.
    private static final ThreadLocal<S3AFileStatus> JUST_WRITTEN = new ThreadLocal<>();

    // Statuses from a listing the runtime made, by path: an open of one of these needs no HEAD.
    private final Map<Path, S3AFileStatus> listed = Collections.synchronizedMap(new LinkedHashMap<Path, S3AFileStatus>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, S3AFileStatus> eldest) {
            return size() > 100_000;
        }
    });

    private boolean createPerformance;

    @Override
    public void initialize(URI name, Configuration conf) throws IOException {
        super.initialize(name, conf);
        createPerformance = conf.getBoolean(CREATE_PERFORMANCE, false);
    }

    @Override
    public FSDataOutputStream create(Path path, FsPermission permission, boolean overwrite, int bufferSize,
            short replication, long blockSize, Progressable progress) throws IOException {
        listed.remove(qualify(path));
        if (!createPerformance) {
            return super.create(path, permission, overwrite, bufferSize, replication, blockSize, progress);
        }
        FSDataOutputStream upload;
        CREATING.set(Boolean.TRUE);
        try {
            upload = super.create(path, permission, overwrite, bufferSize, replication, blockSize, progress);
        } finally {
            CREATING.set(Boolean.FALSE);
        }
        if (overwrite) {
            return upload;
        }
        Path uploaded = qualify(path);
        long uploadedBlockSize = getDefaultBlockSize(uploaded);
        return new FSDataOutputStream(upload, null) {
            @Override
            public void close() throws IOException {
                super.close();
                JUST_WRITTEN.set(new S3AFileStatus(getPos(), System.currentTimeMillis(), uploaded, uploadedBlockSize,
                        getUsername(), null, null));
            }
        };
    }

    @Override
    public FileStatus getFileStatus(Path path) throws IOException {
        S3AFileStatus written = JUST_WRITTEN.get();
        JUST_WRITTEN.remove();
        Path qualified = qualify(path);
        if (written != null && written.getPath().equals(qualified)) {
            return written;
        }
        S3AFileStatus known = listed.get(qualified);
        return known != null ? known : super.getFileStatus(path);
    }

    @Override
    public FileStatus[] listStatus(Path path) throws IOException {
        FileStatus[] statuses = super.listStatus(path);
        for (FileStatus status : statuses) {
            if (status.isFile() && status.getPath().getName().endsWith(".parquet")) {
                remember(status);
            }
        }
        return statuses;
    }

    @Override
    public FSDataInputStream open(Path path, int bufferSize) throws IOException {
        S3AFileStatus known = listed.get(qualify(path));
        if (known == null) {
            return super.open(path, bufferSize);
        }
        OpenFileParameters parameters = new OpenFileParameters()
                .withMandatoryKeys(Collections.emptySet())
                .withOptions(new Configuration(false))
                .withBufferSize(bufferSize)
                .withStatus(known);
        return FutureIOSupport.awaitFuture(super.openFileWithOptions(path, parameters));
    }

    @Override
    public boolean delete(Path path, boolean recursive) throws IOException {
        JUST_WRITTEN.remove();
        forget(path);
        return super.delete(path, recursive);
    }

    @Override
    public boolean rename(Path source, Path destination) throws IOException {
        JUST_WRITTEN.remove();
        forget(source);
        forget(destination);
        return super.rename(source, destination);
    }

    /** Drop what a listing said of `path` and of anything under it: it is about to change. */
    private void forget(Path path) {
        String prefix = qualify(path).toString();
        synchronized (listed) {
            listed.keySet().removeIf(p -> {
                String name = p.toString();
                return name.equals(prefix) || name.startsWith(prefix.endsWith("/") ? prefix : prefix + "/");
            });
        }
    }

    @Override
    S3AFileStatus innerGetFileStatus(Path path, boolean needEmptyDirectoryFlag, Set<StatusProbeEnum> probes)
            throws IOException {
        if (CREATING.get()) {
            // What the probes would find for a new name: nothing, so create() goes on to the upload.
            throw new FileNotFoundException(path.toString());
        }
        return super.innerGetFileStatus(path, needEmptyDirectoryFlag, probes);
    }

    /** Keep the statuses of listed files, so that opening one needs no HEAD. */
    public void rememberListed(List<FileStatus> statuses) {
        for (FileStatus status : statuses) {
            remember(status);
        }
    }

    private void remember(FileStatus status) {
        Path path = qualify(status.getPath());
        listed.put(path, new S3AFileStatus(status.getLen(), status.getModificationTime(), path, status.getBlockSize(),
                getUsername(), null, null));
    }

    @Override
    public CompletableFuture<FSDataInputStream> openFileWithOptions(Path path, OpenFileParameters parameters)
            throws IOException {
        if (parameters.getStatus() == null) {
            S3AFileStatus known = listed.get(qualify(path));
            if (known != null) {
                parameters.withStatus(known);
            }
        }
        return super.openFileWithOptions(path, parameters);
    }
}
