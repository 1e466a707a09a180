//! The names of facets and technical domains in Traditional Chinese and English,
//! as the learning map writes them.

use entity::{Domain, Facet, Level};

pub fn facet_names(facet: Facet) -> (&'static str, &'static str) {
    match facet {
        Facet::Policy => ("政策面", "Policy"),
        Facet::Management => ("管理面", "Management"),
        Facet::Legal => ("法制面", "Legal"),
        Facet::Technical => ("技術面", "Technical"),
        Facet::Security => ("資安面", "Security"),
    }
}

pub fn domain_names(domain: Domain) -> (&'static str, &'static str) {
    match domain {
        Domain::Network => ("網路", "Network"),
        Domain::Hosts => ("主機", "Hosts and virtualisation"),
        Domain::Database => ("資料庫", "Database"),
        Domain::Development => ("程式開發", "Software development"),
        Domain::DataAnalysis => ("數據分析", "Data analysis"),
        Domain::SoftwareApplications => ("軟體應用", "Software applications"),
        Domain::EmergingTechnology => ("新興科技", "Emerging technology"),
    }
}

pub fn level_names(level: Level) -> (&'static str, &'static str) {
    match level {
        Level::A => ("專業", "Professional"),
        Level::B => ("進階", "Advanced"),
        Level::C => ("基礎", "Basic"),
        Level::D => ("通識", "General"),
    }
}
