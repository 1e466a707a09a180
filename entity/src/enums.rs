//! Enumerations stored as short text codes, so that rows stay readable in any SQL
//! client and identical on SQLite and PostgreSQL.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A facet (面向) of the learning map. `Security` is not a column of Table 1 but a
/// requirement of Table 2, served by courses of any facet that carry a security
/// category.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Facet {
    #[sea_orm(string_value = "policy")]
    Policy,
    #[sea_orm(string_value = "management")]
    Management,
    #[sea_orm(string_value = "legal")]
    Legal,
    #[sea_orm(string_value = "technical")]
    Technical,
    #[sea_orm(string_value = "security")]
    Security,
}

/// The level (等級) of a technical course: A professional … D general.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(1))")]
pub enum Level {
    #[sea_orm(string_value = "A")]
    A,
    #[sea_orm(string_value = "B")]
    B,
    #[sea_orm(string_value = "C")]
    C,
    #[sea_orm(string_value = "D")]
    D,
}

/// A technical domain (技術面的領域) of the learning map's grid.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    #[sea_orm(string_value = "network")]
    Network,
    #[sea_orm(string_value = "hosts")]
    Hosts,
    #[sea_orm(string_value = "database")]
    Database,
    #[sea_orm(string_value = "development")]
    Development,
    #[sea_orm(string_value = "data_analysis")]
    DataAnalysis,
    #[sea_orm(string_value = "software_applications")]
    SoftwareApplications,
    #[sea_orm(string_value = "emerging_technology")]
    EmergingTechnology,
}

/// The e-learning platform a course is offered on, told by its link's host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// 臺北e大, elearning.taipei
    #[sea_orm(string_value = "taipei_elearning")]
    TaipeiElearning,
    /// e等公務園+學習平臺, elearn.hrd.gov.tw
    #[sea_orm(string_value = "hrd_elearn")]
    HrdElearn,
    #[sea_orm(string_value = "other")]
    Other,
}

/// The IT role (資通人員類別) a person holds on a date.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 資訊業務人員
    #[sea_orm(string_value = "it_staff")]
    ItStaff,
    /// 資訊主管人員
    #[sea_orm(string_value = "it_supervisor")]
    ItSupervisor,
    /// 資通安全專責人員
    #[sea_orm(string_value = "security_officer")]
    SecurityOfficer,
}

/// The security category a training platform tags a course with.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
#[serde(rename_all = "snake_case")]
pub enum SecurityCategory {
    /// 資通安全通識教育訓練, category code 522
    #[sea_orm(string_value = "general")]
    General,
    /// 資通安全專業課程訓練, category code 523
    #[sea_orm(string_value = "professional")]
    Professional,
}

/// An agency's security responsibility level (資通安全責任等級), set by the
/// central authority.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(1))")]
pub enum SecurityLevel {
    #[sea_orm(string_value = "A")]
    A,
    #[sea_orm(string_value = "B")]
    B,
    #[sea_orm(string_value = "C")]
    C,
    #[sea_orm(string_value = "D")]
    D,
    #[sea_orm(string_value = "E")]
    E,
}

/// The seven criteria of a technical background (資通基礎技術背景).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// 1. the post is in, or may be transferred into, the information processing job series
    #[sea_orm(string_value = "job_series")]
    JobSeries,
    /// 2. information, electrical or electronic engineer (技師)
    #[sea_orm(string_value = "engineer_licence")]
    EngineerLicence,
    /// 3. a Class C or higher technician certificate in a computing trade
    #[sea_orm(string_value = "technician_certificate")]
    TechnicianCertificate,
    /// 4. professional certificates in at least two of five categories
    #[sea_orm(string_value = "certificate")]
    Certificate,
    /// 5. a degree in the ICT field of study
    #[sea_orm(string_value = "ict_degree")]
    IctDegree,
    /// 6. 20 credits within ten years
    #[sea_orm(string_value = "credits")]
    Credits,
    /// 7. 60 training hours within ten years
    #[sea_orm(string_value = "training_hours")]
    TrainingHours,
}

/// The five categories of professional certificates of criterion 4.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum CertificateCategory {
    /// 資通安全
    #[sea_orm(string_value = "cybersecurity")]
    Cybersecurity,
    /// 網路管理
    #[sea_orm(string_value = "network_management")]
    NetworkManagement,
    /// 資料庫管理
    #[sea_orm(string_value = "database_management")]
    DatabaseManagement,
    /// 軟體工程
    #[sea_orm(string_value = "software_engineering")]
    SoftwareEngineering,
    /// 軟體測試
    #[sea_orm(string_value = "software_testing")]
    SoftwareTesting,
}
