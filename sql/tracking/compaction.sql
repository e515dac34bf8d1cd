-- rt-trk-compaction: the tracking ODS table's compaction, out of the ingestion path. rt-trk-ods writes
-- it write-only (it appends files and commits, nothing else); this job follows its new snapshots,
-- merges small files per partition and, with each of its commits, expires snapshots and partitions by
-- the lakehouse policy (rtdw:lakehouse, passed as table options).
CALL sys.compact_database(including_databases => 'ods', mode => 'combined', including_tables => 'ods\.tracking_.*', table_options => '${lakehouse.compactionOptions:ods}');
