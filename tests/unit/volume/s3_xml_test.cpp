#include "volume/store/s3_xml.h"

#include <gtest/gtest.h>

namespace itd::volume::s3xml {
namespace {

TEST(S3Xml, Unescape) {
    EXPECT_EQ(unescape("a&amp;b&lt;c&gt;d&quot;e&apos;f").value(), "a&b<c>d\"e'f");
    EXPECT_EQ(unescape("&#65;&#x42;&#x20AC;&#128512;").value(), "AB\xe2\x82\xac\xf0\x9f\x98\x80");
    EXPECT_EQ(unescape("plain").value(), "plain");
    for (const char* bad : {"&nbsp;", "&amp", "&#;", "&#xZZ;", "&#0;", "&#xD800;", "&#x110000;"}) {
        EXPECT_FALSE(unescape(bad)) << bad;
    }
}

TEST(S3Xml, ParseTime) {
    auto t = parse_time("2015-08-30T12:36:00.250Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(*t,
              std::chrono::system_clock::from_time_t(1440938160) + std::chrono::milliseconds(250));
    auto u = parse_time("2015-08-30T12:36:00Z");
    ASSERT_TRUE(u);
    EXPECT_EQ(*u, std::chrono::system_clock::from_time_t(1440938160));
    for (const char* bad : {"", "2015-08-30", "2015-08-30T12:36:00", "2015-13-30T12:36:00Z",
                            "2015-08-30T12:36:0xZ", "2015-08-30T12:36:00.Z"}) {
        EXPECT_FALSE(parse_time(bad)) << bad;
    }
}

TEST(S3Xml, ListPage) {
    const std::string xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
        "  <Name>bucket</Name><Prefix>vol/</Prefix><KeyCount>2</KeyCount>\n"
        "  <MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>\n"
        "  <!-- a comment <Contents> -->\n"
        "  <Contents>\n"
        "    <Key>vol/a&amp;b&lt;c</Key>\n"
        "    <LastModified>2015-08-30T12:36:00.000Z</LastModified>\n"
        "    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>\n"
        "    <Size>434234</Size>\n"
        "    <StorageClass>STANDARD</StorageClass>\n"
        "    <Owner><ID>x</ID><DisplayName/></Owner>\n"
        "  </Contents>\n"
        "  <Contents><Size>0</Size><Key><![CDATA[vol/raw&amp;]]></Key>"
        "<LastModified>2015-08-30T12:36:01Z</LastModified></Contents>\n"
        "  "
        "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</"
        "NextContinuationToken>\n"
        "</ListBucketResult>";
    auto page = parse_list_page(xml);
    ASSERT_TRUE(page) << page.error().message;
    ASSERT_EQ(page->objects.size(), 2u);
    EXPECT_EQ(page->objects[0].key, "vol/a&b<c");
    EXPECT_EQ(page->objects[0].size_bytes, 434234u);
    EXPECT_EQ(page->objects[0].modified, std::chrono::system_clock::from_time_t(1440938160));
    EXPECT_EQ(page->objects[1].key, "vol/raw&amp;");
    EXPECT_EQ(page->objects[1].size_bytes, 0u);
    EXPECT_TRUE(page->truncated);
    EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");

    auto empty = parse_list_page(
        "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount>"
        "<IsTruncated>false</IsTruncated></ListBucketResult>");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->objects.empty());
    EXPECT_FALSE(empty->truncated);
}

TEST(S3Xml, ListPageRejectsBrokenDocuments) {
    for (const char* bad : {
             "",
             "not xml",
             "<Error><Code>x</Code></Error>",
             "<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult>",
             "<ListBucketResult><Contents><Key>a</Key><Size>1x</Size></Contents></"
             "ListBucketResult>",
             "<ListBucketResult><Contents><Key>a</Key><Size>1</Size>",
             "<ListBucketResult><Contents><Key>a</Size></Contents></ListBucketResult>",
             "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
             "<ListBucketResult><Contents><Key>a&bogus;</Key><Size>1</Size></Contents>"
             "</ListBucketResult>",
             "<!DOCTYPE x [<!ENTITY e \"y\">]><ListBucketResult></ListBucketResult>",
             "<ListBucketResult></ListBucketResult><ListBucketResult></ListBucketResult>",
         }) {
        auto r = parse_list_page(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code, Errc::io_error) << bad;
        }
    }
}

TEST(S3Xml, ErrorDocument) {
    auto doc = parse_error(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
        "<Message>The specified key does not exist.</Message><Key>a&amp;b</Key>"
        "<RequestId>tx1</RequestId></Error>");
    EXPECT_EQ(doc.code, "NoSuchKey");
    EXPECT_EQ(doc.message, "The specified key does not exist.");
    EXPECT_EQ(parse_error("").code, "");
    EXPECT_EQ(parse_error("<html><body>Bad Gateway</body></html>").code, "");
}

}  // namespace
}  // namespace itd::volume::s3xml
