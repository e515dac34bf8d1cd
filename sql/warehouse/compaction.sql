-- rt-dw-compaction: the warehouse ODS tables' compaction, out of the ingestion path. rt-dw-ods-processing
-- writes them write-only (it appends files and commits, nothing else); this job follows their new
-- snapshots, merges small files per partition and, with each of its commits, expires snapshots and
-- partitions by the lakehouse policy (rtdw:lakehouse, passed as table options). One streaming job for
-- all of them (combined mode), which also picks up an ODS table added later.
CALL sys.compact_database(including_databases => 'ods', mode => 'combined', including_tables => 'ods\.shop_.*', table_options => '${lakehouse.compactionOptions:ods}');
